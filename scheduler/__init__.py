"""Scheduling: APScheduler wiring, reminder rules, the working-day calendar, the outbox."""
