library(testthat)
library(trialsim)

test_check("trialsim")
