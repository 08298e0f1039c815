"""The response model's calibration check: the OS hazard ratio of PD vs non-PD.

``response.os_hr_pd`` calibrates the latent correlation of tumour response with death
(:mod:`simulate.response_cal`); like a calibrated median, a value the model cannot reach
is a calibration miss, reported beside the survival checks of
:mod:`simulate.calibration_quality`.
"""
from __future__ import annotations

from .calibration_quality import CalibrationCheck, printed_half_width

__all__ = ["response_checks"]


def response_checks(report: dict) -> tuple[CalibrationCheck, ...]:
    """The check of the response model's OS hazard ratio of PD vs non-PD (``os_hr_pd``).

    The latent correlation of response with death is solved so that a Cox fit on the
    calibration sample gives the declared HR; it is reached exactly (to the printed
    rounding) unless the HR lies beyond what any correlation gives. Such a miss is
    structural, not Monte Carlo error: the check is never ``within``, and its ``reason``
    gives the bound the model reaches (``mcse`` is NaN: no sampling is involved).

    Parameters
    ----------
    report : dict
        A compiled plan's report (its ``["response"]["response"]["os_hr_pd"]``, with
        ``target`` and ``fitted``).

    Returns
    -------
    tuple of CalibrationCheck
        Empty without an ``os_hr_pd``.
    """
    hr = (report.get("response") or {}).get("response", {}).get("os_hr_pd")
    if not hr:
        return ()
    value, achieved = float(hr["target"]), float(hr["fitted"])
    rounding = printed_half_width(value, "hr", "")
    within = abs(value - achieved) <= rounding
    bound = "largest" if achieved < value else "smallest"
    reason = "" if within else (f"HR of PD vs non-PD {value:g} not reached: {achieved:.3g} is the "
                                f"{bound} the response model gives")
    return (CalibrationCheck("os", "", "hr_pd", "", None, value, achieved, value - achieved, rounding,
                             float("nan"), within, reason),)

