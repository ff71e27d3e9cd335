"""The known failures, one module per category (the `category` every pattern carries).

Where a newcomer adds a diagnosis pattern: append a `Pattern(...)` to `PATTERNS` in the module of its
category, with that module's `category`; `codemods.diagnosis.catalogue` assembles the modules, and
tests/codemods/test_diagnosis_patterns.py checks ids, categories and the assembly. A new category is a new
module here, listed in `catalogue.CATEGORIES`.

Each entry says how to recognise a failure in pasted text (regex fragments of messages, never whole lines, so
small wording changes and legacy names still match), which facts about the script confirm or rule it out, and
the fix; `{placeholders}` in fixes are filled by the engine from the text and the script. Sources: our
debugging knowledge base of the upstream `perforatedai` 3.2.9 library (paraphrased) and every error `pai_core`
raises.
"""
