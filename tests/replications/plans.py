"""An analysis.toml text compiled against a test cohort, as the replication tests need it."""
import tomllib

from tacebench.replications.analysis.compile import compile_analyses
from tacebench.replications.analysis.plan import parse_plan_dict
from tacebench.replications.analysis.problems import Problems
from tacebench.replications.analysis.schema import schema_from_cohort


def compiled_plan(cohort, text: str):
    """``(plan, compiled analyses)`` of the analysis.toml ``text`` on ``cohort``'s schema;
    the plan must parse and compile without problems."""
    problems = Problems("analysis.toml")
    plan = parse_plan_dict(tomllib.loads(text), problems)
    assert not list(problems), [str(p) for p in problems]
    compiled = compile_analyses(plan, {"main": schema_from_cohort(cohort)}, problems,
                                {"main": cohort.levels})
    assert not list(problems), [str(p) for p in problems]
    return plan, compiled
