"""A member's score over time: the 26-week history behind the weekly trend, and its alerts (pure)."""
