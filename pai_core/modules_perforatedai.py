"""Drop-in for `perforatedai.modules_perforatedai` (PA): the wrapper modules."""
from pai_core.modules import (  # noqa: F401
    DendriteValueTracker,
    PAIDendriteModule,
    PAINeuronModule,
    TrackedNeuronModule,
    filter_backward,
    init_params,
    set_tracked_params,
    set_wrapped_params,
)
