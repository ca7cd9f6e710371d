"""Cross-case hits: an installation-wide index of normalized selectors, the hits found
when two cases share one, and what a member of one case may learn of the other."""
