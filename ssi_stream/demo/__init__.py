"""The live demo: a local broker, a worker, simulated members, and score updates in the terminal."""
