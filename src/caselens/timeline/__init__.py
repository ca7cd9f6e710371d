"""The case timeline: every dated fact of a case in one chronological stream, and the
import of other tools' timelines (plaso) as events of an evidence item."""
