"""Files and their history: content-addressed blobs, revisions, the current tree, diffs."""
