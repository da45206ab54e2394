"""Optional integrations: each needs an extra (``atom_stripe[fastapi]``, ``atom_stripe[otel]``)."""
