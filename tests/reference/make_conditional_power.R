# make_conditional_power.R -- reference conditional power from rpact (issue 27).
#
# What it computes: for group-sequential designs (efficacy only: rpact's conditional power
# ignores futility bounds unless the design has them), a survival dataset observed up to an
# interim stage (the overall log-rank statistic, benefit positive: directionUpper = FALSE with
# a negative log-rank), rpact::getConditionalPower with thetaH1 a hazard ratio, nPlanned the
# events added by each remaining stage and an allocation ratio: the cumulative probability of
# rejecting by each remaining stage.
#
# How rpact maps onto trialsim's conditional_power (read from rpact 3.3.4's
# .getConditionalPowerSurvivalGroupSequential): the fractions are the design's information
# rates t_k, not the observed events; the bounds are the design's critical values; and the
# B-value B = Z sqrt(t) moves from stage j - 1 to j by sqrt(t_j - t_(j-1)) times the stage's
# standardised effect -log(HR) sqrt(r/(1 + r)^2 nPlanned_j) (r the allocation ratio), with
# variance t_j - t_(j-1). The JSON carries the inputs and rpact's answers.
#
# Versions used for the committed fixture: R 4.2.2 Patched, rpact 3.3.4 (Debian bookworm:
# apt-get install r-base-core r-cran-rpact r-cran-jsonlite); written into the JSON too.
#
# Regenerate (from the repository root, a few seconds):
#   Rscript tests/reference/make_conditional_power.R

suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})

cases <- list()
designs <- list(
  list(type = "asOF", gamma = NA, rates = c(0.33, 0.67, 1)),
  list(type = "asP", gamma = NA, rates = c(0.25, 0.5, 0.75, 1)),
  list(type = "asHSD", gamma = -2, rates = c(0.4, 1)),
  list(type = "asKD", gamma = 2, rates = c(0.2, 0.45, 0.7, 1))
)
for (d in designs) {
  design <- if (is.na(d$gamma)) {
    getDesignGroupSequential(kMax = length(d$rates), alpha = 0.025, sided = 1,
      typeOfDesign = d$type, informationRates = d$rates)
  } else {
    getDesignGroupSequential(kMax = length(d$rates), alpha = 0.025, sided = 1,
      typeOfDesign = d$type, gammaA = d$gamma, informationRates = d$rates)
  }
  k_max <- length(d$rates)
  for (stage in 1:(k_max - 1)) {
    for (z in c(-1.0, 0.3, 1.2, 2.0)) {
      for (hr in c(0.6, 0.75, 1.1)) {
        for (ratio in c(1, 2)) {
          # Events so far grow with the stage; the stage-wise logrank statistics make the
          # overall one z at this stage (equal increments).
          events <- 25 * (1:stage)
          overall <- rep(-z, stage)
          data <- getDataset(overallEvents = events, overallLogRanks = overall,
            overallAllocationRatios = rep(ratio, stage))
          sr <- getStageResults(design, dataInput = data, stage = stage, directionUpper = FALSE)
          planned <- 20 + 3 * seq_len(k_max - stage)
          cp <- getConditionalPower(sr, nPlanned = planned, thetaH1 = hr,
            allocationRatioPlanned = ratio)
          cases[[length(cases) + 1]] <- list(
            efficacy = d$type, gamma = d$gamma, information_rates = I(d$rates),
            critical_values = I(design$criticalValues), stage = stage, z = z,
            stage_p_values = I(sr$pValues[1:stage]), hazard_ratio = hr, allocation_ratio = ratio,
            planned_events = I(planned),
            conditional_power = I(cp$conditionalPower[(stage + 1):k_max])
          )
        }
      }
    }
  }
}

out <- list(
  generator = "tests/reference/make_conditional_power.R",
  r_version = R.version.string,
  rpact_version = as.character(packageVersion("rpact")),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(17), na = "null"),
  "tests/fixtures/conditional_power.json")
cat(length(cases), "cases written to tests/fixtures/conditional_power.json\n")
