//! Reads generated counties back and checks what the generator promises:
//! error rates as configured, NHS numbers valid unless listed as broken,
//! broken rows broken exactly as listed, a plausible population.

mod util;

mod bad_rows;
mod population;
mod rates;
