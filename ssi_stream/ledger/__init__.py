"""A member's ledger: the aggregate the engine keeps per member (pure).

Its scoring state, the effect ids that made it (`recent_ids`), its late counts, score history, alert
states, connections and last ranks, and the compact bytes it is stored as (`member_ledger`).
"""
