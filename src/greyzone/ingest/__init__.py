"""Intake: one adapter per source, each producing RawRecords; one builder validating them."""
