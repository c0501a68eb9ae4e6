"""Face stage: speech -> mouth (lipsync), emotion -> expression, mixer, eyes, head."""
