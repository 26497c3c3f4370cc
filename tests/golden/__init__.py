"""Golden tables generated from the Python engines, checked by both Python and the browser code."""
