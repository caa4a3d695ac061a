"""Built-in rule packs (versioned YAML data, loaded by :mod:`irpatrol.diagnosis.rulepack`)."""
