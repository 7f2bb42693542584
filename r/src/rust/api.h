SEXP savvy_tr_assurance__ffi(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__draws, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads);
SEXP savvy_tr_plan__ffi(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__vary, SEXP c_arg__target, SEXP c_arg__tests, SEXP c_arg__range, SEXP c_arg__set, SEXP c_arg__zip, SEXP c_arg__never_better_limit, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads);
SEXP savvy_tr_read_scenario__ffi(SEXP c_arg__path);
SEXP savvy_tr_run__ffi(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__keys, SEXP c_arg__values, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads, SEXP c_arg__replicates);
SEXP savvy_tr_sweep__ffi(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__set, SEXP c_arg__zip, SEXP c_arg__reps, SEXP c_arg__seed, SEXP c_arg__threads, SEXP c_arg__out);
SEXP savvy_tr_toml_of_json__ffi(SEXP c_arg__json);
SEXP savvy_tr_truth__ffi(SEXP c_arg__text, SEXP c_arg__origin, SEXP c_arg__keys, SEXP c_arg__values);
SEXP savvy_tr_write_files__ffi(SEXP c_arg__dir, SEXP c_arg__contents, SEXP c_arg__main);
