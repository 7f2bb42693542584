
// clang-format sorts includes unless SortIncludes: Never. However, the ordering
// does matter here. So, we need to disable clang-format for safety.

// clang-format off
#include <stdint.h>
#include <Rinternals.h>
#include <R_ext/Parse.h>
// clang-format on

#include "rust/api.h"

static uintptr_t TAGGED_POINTER_MASK = (uintptr_t)1;

SEXP handle_result(SEXP res_) {
    uintptr_t res = (uintptr_t)res_;

    // An error is indicated by tag.
    if ((res & TAGGED_POINTER_MASK) == 1) {
        // Remove tag
        SEXP res_aligned = (SEXP)(res & ~TAGGED_POINTER_MASK);

        // Currently, there are two types of error cases:
        //
        //   1. Error from Rust code
        //   2. Error from R's C API, which is caught by R_UnwindProtect()
        //
        if (TYPEOF(res_aligned) == CHARSXP) {
            // In case 1, the result is an error message that can be passed to
            // Rf_errorcall() directly.
            Rf_errorcall(R_NilValue, "%s", CHAR(res_aligned));
        } else {
            // In case 2, the result is the token to restart the
            // cleanup process on R's side.
            R_ContinueUnwind(res_aligned);
        }
    }

    return (SEXP)res;
}

SEXP savvy_tr_assurance__impl(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__draws, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads) {
    SEXP res = savvy_tr_assurance__ffi(c_arg__text, c_arg__origin, c_arg__draws, c_arg__reps, c_arg__seed, c_arg__threads);
    return handle_result(res);
}

SEXP savvy_tr_plan__impl(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__vary, SEXP c_arg__target, SEXP c_arg__tests, SEXP c_arg__range, SEXP c_arg__set, SEXP c_arg__zip, SEXP c_arg__never_better_limit, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads) {
    SEXP res = savvy_tr_plan__ffi(c_arg__text, c_arg__origin, c_arg__vary, c_arg__target, c_arg__tests, c_arg__range, c_arg__set, c_arg__zip, c_arg__never_better_limit, c_arg__reps, c_arg__seed, c_arg__threads);
    return handle_result(res);
}

SEXP savvy_tr_read_scenario__impl(SEXP c_arg__path) {
    SEXP res = savvy_tr_read_scenario__ffi(c_arg__path);
    return handle_result(res);
}

SEXP savvy_tr_run__impl(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__keys, SEXP c_arg__values, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads, SEXP c_arg__replicates) {
    SEXP res = savvy_tr_run__ffi(c_arg__text, c_arg__origin, c_arg__keys, c_arg__values, c_arg__reps, c_arg__seed, c_arg__threads, c_arg__replicates);
    return handle_result(res);
}

SEXP savvy_tr_sweep__impl(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__set, SEXP c_arg__zip, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads, SEXP c_arg__out) {
    SEXP res = savvy_tr_sweep__ffi(c_arg__text, c_arg__origin, c_arg__set, c_arg__zip, c_arg__reps, c_arg__seed, c_arg__threads, c_arg__out);
    return handle_result(res);
}

SEXP savvy_tr_toml_of_json__impl(SEXP c_arg__json) {
    SEXP res = savvy_tr_toml_of_json__ffi(c_arg__json);
    return handle_result(res);
}

SEXP savvy_tr_truth__impl(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__keys, SEXP c_arg__values) {
    SEXP res = savvy_tr_truth__ffi(c_arg__text, c_arg__origin, c_arg__keys, c_arg__values);
    return handle_result(res);
}

SEXP savvy_tr_write_files__impl(SEXP c_arg__dir, SEXP c_arg__contents, SEXP c_arg__main) {
    SEXP res = savvy_tr_write_files__ffi(c_arg__dir, c_arg__contents, c_arg__main);
    return handle_result(res);
}


static const R_CallMethodDef CallEntries[] = {
    {"savvy_tr_assurance__impl", (DL_FUNC) &savvy_tr_assurance__impl, 6},
    {"savvy_tr_plan__impl", (DL_FUNC) &savvy_tr_plan__impl, 12},
    {"savvy_tr_read_scenario__impl", (DL_FUNC) &savvy_tr_read_scenario__impl, 1},
    {"savvy_tr_run__impl", (DL_FUNC) &savvy_tr_run__impl, 8},
    {"savvy_tr_sweep__impl", (DL_FUNC) &savvy_tr_sweep__impl, 8},
    {"savvy_tr_toml_of_json__impl", (DL_FUNC) &savvy_tr_toml_of_json__impl, 1},
    {"savvy_tr_truth__impl", (DL_FUNC) &savvy_tr_truth__impl, 4},
    {"savvy_tr_write_files__impl", (DL_FUNC) &savvy_tr_write_files__impl, 3},
    {NULL, NULL, 0}
};

void R_init_trialsim(DllInfo *dll) {
    R_registerRoutines(dll, NULL, CallEntries, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);

    // Functions for initialization, if any.

}
