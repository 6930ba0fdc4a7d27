"""The run folder on disk: safe file writing, the store (``results/<run>/``) and the schema of ``run.json``."""
