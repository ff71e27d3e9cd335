"""Upstream names as data: options pai accepts but has no use for, and the 2024 camelCase API's names.

INERT_OPTIONS: real upstream settings of the proprietary Perforated Backpropagation (perforatedbp) or of the
dashboard. `GPA.pc.set_<name>(v)` stores the value in the run config's `inert_options` and warns once per name;
they never change what pai does. Each entry: (upstream default, where the name comes from).

LEGACY_OPTIONS: the 2024 module attributes of `pb_globals` / `globalsFile` (PBG.nEpochsToSwitch, ...) and the
current option each one is. LEGACY_CONSTANTS: the 2024 names of the switch-mode and scheduler constants.
"""
from __future__ import annotations

INERT_OPTIONS: dict[str, tuple[object, str]] = {
    # Perforated Backpropagation (perforatedbp globals_pbp, used through perforatedai 3.x)
    "p_epochs_to_switch": (10, "perforatedbp 0.0.6 / 2024 pb_globals pEpochsToSwitch"),
    "cap_at_n": (False, "perforatedbp 0.0.6 / 2024 pb_globals capAtN"),
    "pai_improvement_threshold": (0.1, "perforatedbp 0.0.6"),
    "pai_improvement_threshold_raw": (1e-5, "perforatedbp 0.0.6"),
    "initial_correlation_batches": (100, "perforatedbp 0.0.6"),
    "correlations_by_mean": (False, "perforatedbp 0.0.6"),
    "grad_sum_first": (True, "perforatedbp 0.0.6"),
    "formula_type": (0, "perforatedbp 0.0.6"),
    "doing_mean_best": (0, "perforatedbp 0.0.6"),
    "switch_on_lr_change": (False, "perforatedbp 0.0.6"),
    "save_all_epochs": (False, "perforatedbp 0.0.6"),
    "default_pai_dropout": (0.0, "perforatedbp 0.0.6"),
    "default_pai_batch": (False, "perforatedbp 0.0.6"),
    "node_index": (1, "2024 pb_globals nodeIndex"),
    # the dashboard (perforatedai 3.2.9)
    "dashboard_url": ("", "perforatedai 3.2.9"),
    "dashboard_debug": (False, "perforatedai 3.2.9"),
    "dashboard_events_enabled": (False, "perforatedai 3.2.9"),
}

INERT_REASON = "has no effect in pai: it belongs to the proprietary Perforated Backpropagation / dashboard"

LEGACY_OPTIONS: dict[str, str] = {
    "debuggingInputDimensions": "debugging_output_dimensions", "confirmCorrectSizes": "confirm_correct_sizes",
    "unwrappedModulesConfirmed": "unwrapped_modules_confirmed", "weightDecayAccepted": "weight_decay_accepted",
    "checkedSkippedLayers": "checked_skipped_modules", "verbose": "verbose", "extraVerbose": "extra_verbose",
    "silent": "silent", "saveOldGraphScores": "save_old_graph_scores",
    "testingDendriteCapacity": "testing_dendrite_capacity", "usingSafeTensors": "using_safe_tensors",
    "modulesToConvert": "modules_to_perforate", "moduleNamesToConvert": "module_names_to_perforate",
    "moduleIDsToConvert": "module_ids_to_perforate", "modulesToTrack": "modules_to_track",
    "moduleNamesToTrack": "module_names_to_track", "moduleIDsToTrack": "module_ids_to_track",
    "modulesToReplace": "modules_to_replace", "replacementModules": "replacement_modules",
    "modulesWithProcessing": "modules_with_processing", "moduleProcessingClasses": "modules_processing_classes",
    "moduleNamesWithProcessing": "module_names_with_processing",
    "moduleByNameProcessingClasses": "module_by_name_processing_classes",
    "moduleNamesToNotSave": "module_names_to_not_save", "globalCandidates": "global_candidates",
    "drawingPB": "drawing_pai", "testSaves": "test_saves", "paiSaves": "pai_saves",
    "inputDimensions": "output_dimensions", "improvementThreshold": "improvement_threshold",
    "improvementThresholdRaw": "improvement_threshold_raw",
    "candidateWeightInitializationMultiplier": "candidate_weight_initialization_multiplier",
    "nEpochsToSwitch": "n_epochs_to_switch", "historyLookback": "history_lookback",
    "initialHistoryAfterSwitches": "initial_history_after_switches", "fixedSwitchNum": "fixed_switch_num",
    "firstFixedSwitchNum": "first_fixed_switch_num", "switchMode": "switch_mode",
    "resetBestScoreOnSwitch": "reset_best_score_on_switch", "learnPBLive": "learn_dendrites_live",
    "noExtraNModes": "no_extra_n_modes", "dType": "d_type", "retainAllPB": "retain_all_dendrites",
    "findBestLR": "find_best_lr", "dontGiveUpUnlessLearningRateLowered": "dont_give_up_unless_learning_rate_lowered",
    "maxDendriteTries": "max_dendrite_tries", "maxDendrites": "max_dendrites",
    "paramValsSetting": "param_vals_setting", "PBForwardFunction": "pai_forward_function",
    "device": "device", "use_cuda": "use_cuda",
    # Perforated-Backpropagation-only 2024 names, stored and warned about (INERT_OPTIONS)
    "pEpochsToSwitch": "p_epochs_to_switch", "capAtN": "cap_at_n", "nodeIndex": "node_index",
}

LEGACY_CONSTANTS: dict[str, int] = {
    "doingSwitchEveryTime": 0, "doingHistory": 1, "doingFixedSwitch": 2, "doingNoSwitch": 3,
    "paramValsByTotalEpoch": 0, "paramValsByUpdateEpoch": 1, "paramValsByNormalEpochStart": 2,
}
