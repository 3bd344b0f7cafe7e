"""Applications: detail, correction after a return or rejection, resubmission."""
