"""Every exception pai_core raises on purpose.

Each message says what happened, where (module id, shape, option) and what to call to fix it. The classes
also subclass the built-in exception a caller would naturally catch (ValueError, AttributeError, ...), so
code written against upstream's behaviour keeps working. A traceback-diagnosis catalogue is built from this
file: keep one class per failure mode, each with a docstring that names the usual cause.
"""
from __future__ import annotations


class PAIError(Exception):
    """Base class of every deliberate pai_core error."""


class UnknownOptionError(PAIError, AttributeError):
    """A `set_X` / `get_X` / `append_X` call or a config key names no option.

    Usual cause: a typo, or an option of another release. The message names the closest valid option.
    """


class InvalidOptionValueError(PAIError, ValueError):
    """An option was given a value of the wrong kind (e.g. `append_` on a scalar option, a bad id)."""


class InvalidModuleIdError(InvalidOptionValueError):
    """A module or parameter id is not a dotted path like ".layer1.0.conv1".

    Ids must be strings that start with "." and use ".<index>" instead of "[index]". The message shows the
    corrected id.
    """


class NotAListOptionError(PAIError, TypeError):
    """`append_X` was called for an option that does not hold a list; use `set_X` instead."""


class ConfigFileError(PAIError, ValueError):
    """A config JSON file cannot be read or holds a value that cannot be turned back into a setting."""


class InvalidSaveNameError(PAIError, ValueError):
    """`save_name` contains a path separator; it names one folder under the current directory."""


class ConversionError(PAIError, ValueError):
    """The model cannot be perforated as given (e.g. it is already wrapped in DataParallel/DDP).

    Call `perforate_model` on the bare model first, then wrap it for data parallel training.
    """


class UnwrappedParametersError(ConversionError):
    """Some parameters are neither inside a perforated nor inside a tracked module.

    Raised only when `unwrapped_params_action="raise"`; by default the same report is a logging warning.
    Fix: perforate or track the named modules (module_names_to_perforate / module_names_to_track /
    module_ids_to_track), group norm layers with their layer in a PAISequential, or confirm with
    `set_unwrapped_modules_confirmed(True)`.
    """


class OutputDimensionsError(PAIError, ValueError):
    """The output of a perforated module does not fit its `output_dimensions` template.

    The template needs one entry per output axis with exactly one 0 marking the neuron (channel) axis.
    The message names the module, the shape received and the `set_this_output_dimensions([...])` call that
    fits it.
    """


class DendriteError(PAIError, RuntimeError):
    """A dendrite cannot be added to (or loaded into) a module.

    Most often the module never ran in a forward pass (unused branch, or perforate_model was called on a
    module the training loop never reaches), so its number of output channels is still unknown. Track such
    modules instead of perforating them, or set `checked_skipped_modules=True` to skip them.
    """


class ProcessorError(PAIError, TypeError):
    """A processor for a multi-output module failed or returned something other than one tensor."""


class TupleOutputError(ProcessorError):
    """A perforated module returned a tuple (or another non-tensor) and no processor is registered for it.

    Register one before perforate_model, e.g. MultiOutputProcessor for (output, state, ...) tuples:
    `GPA.pc.append_modules_with_processing([Cls]); GPA.pc.append_modules_processing_classes([Proc])`
    (or the `module_names_with_processing` / `module_by_name_processing_classes` pair by class name).
    """


# ---- tracker errors (appended by the tracker engineer) ----


class TrackerNotReadyError(PAIError, RuntimeError):
    """A tracker call came before any model was perforated: call `perforate_model(model, ...)` first."""


class InvalidScoreError(PAIError, TypeError):
    """A score is not one number (e.g. a dict of metrics or a list); pass the single value to track."""


class NonFiniteScoreError(PAIError, ValueError):
    """A score is NaN or infinite, usually a diverged loss; lower the learning rate or fix the metric."""


class WrappedModelError(PAIError, TypeError):
    """A DataParallel/DDP wrapper was passed to the tracker; pass the bare model (`wrapper.module`)."""


class CheckpointError(PAIError, RuntimeError):
    """A checkpoint is missing, unreadable or does not fit the model it is loaded into.

    Perforate the model with the same settings as the run that wrote it (same modules, same save_name),
    or set `strict_loading=False` to load only the matching tensors.
    """


class OptimizerNotRebuiltError(PAIError, RuntimeError):
    """The model was restructured but no optimizer was registered since, so new dendrites would never train.

    After `add_validation_score` returns `restructured=True`, rebuild the optimizer (and scheduler) over the
    returned model's parameters: call `setup_optimizer(...)` again, or create it and call
    `set_optimizer_instance(optimizer)`.
    """


# ---- distributed errors (appended by the distributed engineer) ----


class DistributedError(PAIError, RuntimeError):
    """A collective tracker call failed on some rank, or the ranks disagree (different models or weights).

    In a torch.distributed job every rank calls add_validation_score; when one rank's call is invalid every rank
    raises (this error names the rank and its message) instead of waiting forever. Parameters that differ between
    ranks mean the model was trained outside the DDP wrapper or not re-wrapped after a restructure.
    """


class StaleWrapperError(DistributedError):
    """A DDP wrapper built before the last restructure was used: it does not sync the new dendrite parameters.

    In the `if restructured:` branch call `model, optimizer = pai_core.distributed.rewrap_ddp(model, make_opt)`.
    """
