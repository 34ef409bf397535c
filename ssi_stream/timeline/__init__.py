"""Event time: which day an effect counts in, when a day may close, and the partition a member lives on.

Pure and shared: `ssi-stream replay` and the Faust agents make the same decisions with the same code,
which is why the streamed daily scores equal the replayed ones.
"""
