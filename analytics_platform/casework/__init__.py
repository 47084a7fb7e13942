"""The analyst's side: address and case views, case export, dispositions, calibration from
verdicts, evidence pictures and their store."""
