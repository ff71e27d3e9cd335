"""Lines that say the run worked (informational findings, never the explanation of a crash)."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule, Pattern
from codemods.diagnosis.patterns.common import doc_for

PATTERNS: list[Pattern] = [
    Pattern(
        id="capacity-test-succeeded",
        code="PAI363",
        title="capacity test passed: the integration works",
        category="success",
        signals=[
            r"Successfully added \d+ dendrites",
            r"capacity test (passed|succeeded|complete)",
            r"set_testing_dendrite_capacity\(True\)[^\n]{0,40}You may now set that to False",
        ],
        log_only=True,
        informational=True,
        facts=[
            FactRule(
                fact="capacity_test",
                equals=False,
                effect="rules_out",
                note="the script already sets the capacity test to False",
            )
        ],
        point_at=["capacity_test_line", "perforate_model_line"],
        cause="Not an error. The default capacity test adds dendrites every epoch and stops after three to prove the "
        "integration works; the run stopped because the test succeeded.",
        fix="Now run the real experiment: `GPA.pc.set_testing_dendrite_capacity(False)`{capacity_at} before "
        "perforate_model, then run again.",
        doc=doc_for("capacity-test"),
        confidence=0.95,
    ),
    Pattern(
        id="training-complete-normal",
        code="PAI364",
        title="training finished normally",
        category="success",
        signals=[
            r"did not improve system and \d+ > \d+ so returning training_?complete",
            r"You should now exit your training loop",
            r"Max dendrites reached",
            r"Last Dendrites were good and this hit the max",
            r"training_complete(d)? ?(=|is|returned) ?True",
        ],
        log_only=True,
        informational=True,
        cause="Not an error: the last dendrite attempts did not beat the best score (or the dendrite limit was "
        "reached), so the tracker returned training_complete and reloaded the best model.",
        fix="Use the returned model (best_model). If it stopped too early, raise `GPA.pc.set_max_dendrite_tries(n)` "
        "or `set_max_dendrites(n)`, or relax `set_improvement_threshold`.",
        doc=doc_for("tracker"),
        confidence=0.6,
    ),
]
