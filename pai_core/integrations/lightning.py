"""Dendrites for Lightning's `Trainer`, as one `lightning.Callback`::

    checkpoint = ModelCheckpoint(monitor="val_acc", mode="max")
    trainer = L.Trainer(max_epochs=1000, callbacks=[checkpoint,
                        PAILightningCallback(monitor="val_acc", mode="max", save_name="my_run")])
    trainer.fit(module, train_loader, val_loader)

- `on_fit_start` perforates the LightningModule in place (after `setup`/`configure_model` built its layers;
  perforation creates no parameters, so the optimizers Lightning just built stay valid);
- `on_validation_epoch_end` (during fit, never in the sanity check or `trainer.validate()`) feeds
  `trainer.callback_metrics[monitor]` to the tracker, maximizing when `mode="max"`;
- after a restructure it re-runs the module's `configure_optimizers` through the strategy, so the new
  optimizers and schedulers cover the new dendrite parameters;
- when dendritic training is complete it sets `trainer.should_stop`; the module holds the best weights.
"""
from __future__ import annotations

import logging
from typing import Any

try:
    from lightning.pytorch import Callback
    from lightning.pytorch.callbacks import EarlyStopping
    from lightning.pytorch.trainer.states import TrainerFn
except ImportError:  # the standalone `pytorch_lightning` package has the same API
    try:
        from pytorch_lightning import Callback
        from pytorch_lightning.callbacks import EarlyStopping
        from pytorch_lightning.trainer.states import TrainerFn
    except ImportError as exc:  # an optional extra: say how to get it
        raise ImportError("pai_core.integrations.lightning needs lightning: pip install 'pai[frameworks]' "
                          "(or pip install lightning).") from exc

from pai_core.distributed import refresh_wrappers
from pai_core.integrations._common import (
    IntegrationError,
    forward_extra_scores,
    inner_optimizer,
    perforate_in_place,
    run_config,
)

__all__ = ["PAILightningCallback"]

logger = logging.getLogger("pai_core.integrations.lightning")


class PAILightningCallback(Callback):
    """Grow dendrites during `Trainer.fit()`.

    `monitor` / `mode` name the logged validation metric and its direction, as for ModelCheckpoint.
    `config`: a pai_core PAIConfig (default: the GPA.pc defaults); `**options` override single options of it;
    the logged metrics named by upstream's `library_extra_scores` (`_without_graphing`) become extra scores.
    `resume=True` continues <save_name>/latest.pt.
    """

    def __init__(self, config: Any = None, *, monitor: str = "val_loss", mode: str = "min", save_name: str = "PAI",
                 resume: bool = False, **options: Any) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max' (as for ModelCheckpoint), got {mode!r}.")
        self.config = run_config(config, options)
        self.monitor = monitor
        self.mode = mode
        self.save_name = save_name
        self.resume = resume
        self.tracker = None
        self._missing_extras: set[str] = set()

    def on_fit_start(self, trainer, pl_module) -> None:
        start_method = getattr(trainer.strategy, "_start_method", None)
        if start_method in ("spawn", "fork", "forkserver"):
            raise IntegrationError(
                f"PAILightningCallback cannot run under strategy='ddp_{start_method}': the dendrites grow in the "
                "worker processes, but at the end Lightning copies the weights back into the launching process's "
                "module, which never grew them, so the trained model would be lost. Use strategy='ddp' (Lightning "
                "starts one process per device and each keeps its model).")
        if self.tracker is None:
            self.tracker = perforate_in_place(pl_module, self.config, save_name=self.save_name,
                                              maximizing_score=self.mode == "max", resume=self.resume)
            if self.tracker.state.num_dendrites_added:  # a resumed run brought dendrite parameters along
                refresh_wrappers(pl_module)  # the strategy wrapped the module in DDP before they existed
                trainer.strategy.setup_optimizers(trainer)
        if self.tracker.state.completed:  # e.g. resume=True on a finished run: nothing left to train
            trainer.should_stop = True
            return
        stoppers = [type(c).__name__ for c in trainer.callbacks if isinstance(c, EarlyStopping)]
        if stoppers:
            logger.warning("%s may stop training before the dendrites are done; the tracker decides when training "
                           "is complete, so remove it.", ", ".join(stoppers))
        if trainer.optimizers:
            self.tracker.set_optimizer_instance(inner_optimizer(trainer.optimizers[0]))

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING or self.tracker is None:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            raise IntegrationError(
                f"PAILightningCallback monitors {self.monitor!r}, which was not logged in validation (logged: "
                f"{sorted(trainer.callback_metrics)}). Log it with self.log({self.monitor!r}, value) in "
                "validation_step, or pass monitor= the name you log.")
        tracker = self.tracker
        forward_extra_scores(tracker, dict(trainer.callback_metrics), self._missing_extras)
        returned, restructured, complete = tracker.add_validation_score(value, pl_module)
        if returned is not pl_module:
            raise IntegrationError("The tracker returned a different model object; Lightning cannot use it.")
        if complete:
            trainer.should_stop = True
            logger.info("Dendritic training complete (%s): stopping the Trainer with the best model loaded.",
                        tracker.state.completion_reason)
        elif restructured:
            refresh_wrappers(pl_module)  # strategy="ddp": the strategy's DDP object syncs the new dendrites
            trainer.strategy.setup_optimizers(trainer)  # configure_optimizers again, over the new parameters
            if trainer.optimizers:
                tracker.set_optimizer_instance(inner_optimizer(trainer.optimizers[0]))

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.tracker is None:
            return
        self.tracker.flush()
        if not self.tracker.state.completed:
            logger.warning("fit() ended before dendritic training was complete (%d dendrite(s) so far): raise "
                           "max_epochs so the tracker can decide when to stop.",
                           self.tracker.state.num_dendrites_added)
