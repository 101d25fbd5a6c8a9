//! Cases: the shared manifest-fetch scenarios, and how they are read.

mod input;
mod load;
mod model;
mod write;

pub use input::{TYPED_KINDS, check as check_input};
pub use load::{
    BODIES_DIR, BUNDLE_DIR, CaseError, CaseErrors, EXPECTATIONS_FILE_NAME, MAX_FILE_BYTES, check_id,
    compact_json, id_segment, is_raw_exempt, line_column, load_case_file, load_cases, load_raw_dir,
    raw_input, read_regular_file,
};
pub use model::{
    Case, CaseFile, Expect, GuestExpectation, HostResponse, Input, Level, Op, Origin, OutcomeClass,
    Provenance, ResponseSpec,
};
pub use write::write_case_file;
