"""Standing: where a member's daily score places them in their industry and their network (pure)."""
