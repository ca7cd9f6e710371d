"""Identity resolution: candidate pairs of entities that may be one, scored and explained,
judged by analysts, and applied as canonical groups."""
