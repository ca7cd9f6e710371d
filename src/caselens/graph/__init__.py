"""The entity graph of a case: who is connected to whom, how, and when."""
