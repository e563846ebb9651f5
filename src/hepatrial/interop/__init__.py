"""Other systems' formats in and out (REDCap so far). Pure code: no Django."""
