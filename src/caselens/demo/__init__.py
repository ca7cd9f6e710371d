"""The demo case: Operation Tidewater, a fictional investment-fraud investigation."""
