"""Configuration option names of the `GPA.pc` API, to correct a setter that was silently ignored."""

from __future__ import annotations

import difflib

OPTIONS = (
    "use_cuda device d_type save_name config_file configuration_confirmed testing_dendrite_capacity switch_mode "
    "n_epochs_to_switch history_lookback initial_history_after_switches fixed_switch_num first_fixed_switch_num "
    "reset_best_score_on_switch maximizing_score improvement_threshold improvement_threshold_raw find_best_lr "
    "dont_give_up_unless_learning_rate_lowered max_dendrite_tries max_dendrites retain_all_dendrites "
    "candidate_weight_initialization_multiplier candidate_weight_init_by_main global_candidates "
    "pai_forward_function output_dimensions modules_to_perforate module_names_to_perforate module_ids_to_perforate "
    "modules_to_track module_names_to_track module_ids_to_track parameter_ids_to_track modules_to_replace "
    "replacement_modules modules_with_processing modules_processing_classes module_names_with_processing "
    "module_by_name_processing_classes module_names_to_not_save verbose extra_verbose silent drawing_pai "
    "drawing_extra_graphs save_old_graph_scores test_saves pai_saves confirm_correct_sizes "
    "debugging_output_dimensions library_validation_score library_extra_scores "
    "library_extra_scores_without_graphing unwrapped_modules_confirmed weight_decay_accepted "
    "checked_skipped_modules strict_loading using_safe_tensors weight_tying_experimental "
    "perforated_backpropagation learn_dendrites_live no_extra_n_modes param_vals_setting"
).split()

# Options renamed between API generations: old name -> current name.
RENAMED = {
    "modules_to_convert": "modules_to_perforate",
    "module_names_to_convert": "module_names_to_perforate",
    "module_ids_to_convert": "module_ids_to_perforate",
    "input_dimensions": "output_dimensions",
    "debugging_input_dimensions": "debugging_output_dimensions",
    "pb_forward_function": "pai_forward_function",
}

# Options documented in the upstream repository but absent from the 3.2.9 API.
NOT_AVAILABLE = {
    "debugging_memory_leak": "memory-leak debugging is not an option; find leaks with `gc.get_objects()` between steps",
    "demo_mode": "demo mode is not part of this API; use a short capacity test instead",
}


def strip_prefix(name: str) -> tuple[str, str]:
    """('set', 'max_dendrites') from 'set_max_dendrites'; the prefix is '' when there is none."""
    for prefix in ("set_", "append_", "get_"):
        if name.startswith(prefix):
            return prefix[:-1], name[len(prefix) :]
    return "", name


def correction(name: str, hint: str | None = None) -> str:
    """A sentence telling the user what to call instead of the unknown option `name` (`hint`: the library's guess)."""
    verb, option = strip_prefix(name)
    verb = verb or "set"
    if hint and option not in RENAMED:
        return f"Did you mean `GPA.pc.{verb}_{hint}(...)`? Fix the name so the setting takes effect."
    if option in RENAMED:
        return (
            f"`{option}` was renamed: call `GPA.pc.{verb}_{RENAMED[option]}(...)` instead "
            "(with the same value)."
        )
    if option in NOT_AVAILABLE:
        return f"`{option}` does not exist in this version: {NOT_AVAILABLE[option]}; remove the call."
    close = difflib.get_close_matches(option, OPTIONS, n=1, cutoff=0.6)
    if close:
        return f"Did you mean `GPA.pc.{verb}_{close[0]}(...)`? Fix the name so the setting takes effect."
    return (
        "Remove the call or use an existing option (`pai` lists them in its configuration docs); "
        "the run silently used the default."
    )
