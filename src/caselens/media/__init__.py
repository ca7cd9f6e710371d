"""Pictures and recordings prepared for viewing (thumbnails)."""
