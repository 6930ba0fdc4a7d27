"""Running trials: the suite (plan, warmups, repeats), pre-flight checks, the machine's fingerprint,
several interpreters, faults, and the launchers that start each trial's worker."""
