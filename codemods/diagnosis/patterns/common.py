"""What patterns of several categories share: where to read more, and fact rules used by more than one."""

from __future__ import annotations

from codemods.diagnosis.models import FactRule

# Our own documents served by the MCP server (mcp_server/resources.py): skills and generated references.
_DOCS = {
    "configuration": "pai://reference/config",
    "api-names": "pai://reference/api",
    "integration": "pai://skills/pai-setup",
    "optimizer": "pai://skills/pai-setup",
    "capacity-test": "pai://skills/pai-setup",
    "distributed": "pai://skills/pai-distributed",
    "run-analysis": "pai://skills/pai-results-analysis",
    "frameworks": "pai://skills/pai-lightning",
}


def doc_for(topic: str) -> str:
    """Where to read more: a dedicated skill/reference when there is one, else the debugging skill."""
    return _DOCS.get(topic, "pai://skills/pai-debugging")


NO_VALIDATION = FactRule(
    fact="calls_add_validation_score",
    equals=False,
    effect="confirms",
    note="the script never calls add_validation_score",
)
