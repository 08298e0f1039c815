"""A study's reported numbers as data: load and validate ``targets.toml``.

Every number a paper reports (medians, hazard ratios, landmark rates, response rates, group
sizes, baseline proportions, ...) is one :class:`Target`, tied to the analysis it belongs to
and to a verbatim quote of its source. :func:`load_targets` reads a study folder's
``targets.toml`` into a frozen :class:`StudyTargets`; every problem in the file (unknown key,
malformed number, duplicate id, dangling reference, a number not present in its own quote)
is collected and raised together as one ``ValueError`` naming file, key and value.

The printed form of each number is recovered from its quote (``"17.0"`` for a value of 17.0),
so that the audit can infer the paper's rounding: :meth:`Target.resolution` is half a unit in
the last printed digit, on the scale of the stored value. Proportions (``km_rate``, ``rate``,
``proportion``) are stored on the 0-1 scale; write them as ``percent = 17.0`` (as printed) or
``value = 0.170``.

File layout (see ``docs/design.md``)::

    [study]    id, seed_file
    [[targets]]   one reported number (keys in :data:`TARGET_KEYS`)
    [[baseline]]  one baseline-table row: variable, level, where, source, partition, cells =
                  [{analysis, arm, count, percent, weighted}], expanded into ``proportion``
                  targets with ids ``bl_{variable}_{level}_{arm}_{analysis}``
    [[results]]   a group of numbers: keys they share, then rows = [{...}, ...], one per
                  number (or per arm, ``arm = [a, b]``), expanded into targets with the
                  convention's ids (:mod:`.results`)
    [calibration] calibration targets read from cohort.toml's calibrate / events entries:
                  analysis, where, and per target id what an entry cannot carry
                  (:mod:`.calibrated`)
    [[shifts]]    a paired shift between two targets: id, from, to, scale, role, required
    [[expected_failures]]  a known failure of a simulated target or shift: target, reason,
                  finding (audit rule) and/or evidence (the analysis behind it)

A target's ``mislabel = {printed, is, reason, finding}`` says the paper prints it under the
wrong endpoint or quantity: the parsed :class:`Target` carries the quantity it *is* (and the
:class:`Mislabel`), so it is simulated and judged as that (see :mod:`.declarations`). A target's
``misprint = {ci = [117, 2.41], why}`` holds numbers the paper prints wrongly, while its own
keys hold the numbers meant: the quote check looks for the print, everything else reads the
numbers meant, and the audit reports the misprint (see :mod:`.misprints`).
"""
from .model import (INTERVALS, MISLABEL_FIELDS, PROPORTION_QUANTITIES, QUANTITIES,
                    RATIO_QUANTITIES, ROLES, SHIFT_SCALES, TARGET_KEYS, ExpectedFailure,
                    Mislabel, Shift, StudyTargets, Target, arm_slug, expected_id, find_printed,
                    level_slug, printed_numbers)
from .misprints import Misprint, as_printed, describe_misprint, misprint_pairs
from .parse import load_targets, parse_targets
from .table import table_target_ids

__all__ = [
    "QUANTITIES", "ROLES", "RATIO_QUANTITIES", "PROPORTION_QUANTITIES", "SHIFT_SCALES",
    "INTERVALS", "TARGET_KEYS", "MISLABEL_FIELDS", "Target", "Shift", "Mislabel",
    "ExpectedFailure", "StudyTargets", "load_targets",
    "parse_targets", "arm_slug", "level_slug", "expected_id", "printed_numbers",
    "find_printed", "table_target_ids", "Misprint", "as_printed", "describe_misprint",
    "misprint_pairs",
]
