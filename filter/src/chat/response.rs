//! PLACEHOLDER on branch `reqcore`: respcore writes this module (take theirs at merge).
