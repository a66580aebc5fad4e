"""Control: who holds what, fused from uncertain observations (pure computation)."""
