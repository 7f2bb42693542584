# make_gs_simulation.R -- rpact's simulated (and analytic) stopping probabilities of a
# group-sequential survival design, for trialsim's Monte Carlo comparison.
#
# Design: three looks at 100, 200 and 300 events (information rates 1/3, 2/3, 1), one-sided
# alpha = 0.025, O'Brien-Fleming-type alpha-spending (asOF), non-binding beta-spending
# futility (bsHSD, gammaB = -2, beta = 0.2). Trial: 400 patients 1:1, uniform accrual over
# 2 years, exponential survival with control hazard 0.5 per year, no dropout; hazard ratio 0.7
# (and 1, the null hypothesis). rpact's getSimulationSurvival (1e5 iterations, seed 2026)
# simulates the trials and the log-rank test at each look; getPowerSurvival is Schoenfeld's
# analytic approximation. trialsim's tests compare its own simulated probabilities per look
# with rpact's within 4 sqrt(SE1^2 + SE2^2).
#
# Versions used for the committed fixture: R 4.2.2 Patched, rpact 3.3.4 (written into the JSON).
# Regenerate (from the repository root; about a minute):
#   Rscript tests/reference/make_gs_simulation.R

suppressPackageStartupMessages(library(rpact))

design <- getDesignGroupSequential(kMax = 3, alpha = 0.025, beta = 0.2, sided = 1,
  informationRates = c(1, 2, 3) / 3, typeOfDesign = "asOF",
  typeBetaSpending = "bsHSD", gammaB = -2, bindingFutility = FALSE)

num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")

one <- function(hr) {
  sim <- getSimulationSurvival(design, lambda2 = 0.5, hazardRatio = hr, accrualTime = c(0, 2),
    maxNumberOfSubjects = 400, plannedEvents = c(100, 200, 300), directionUpper = FALSE,
    allocation1 = 1, allocation2 = 1, maxNumberOfIterations = 100000, seed = 2026,
    longTimeSimulationAllowed = TRUE)
  pow <- getPowerSurvival(design, lambda2 = 0.5, hazardRatio = hr, accrualTime = c(0, 2),
    maxNumberOfSubjects = 400, maxNumberOfEvents = 300, directionUpper = FALSE)
  fields <- c(
    sprintf("\"hazard_ratio\": %.17g", hr),
    sprintf("\"iterations\": %d", sim$maxNumberOfIterations),
    sprintf("\"reject_per_stage\": %s", num(sim$rejectPerStage[, 1])),
    sprintf("\"futility_per_stage\": %s", num(sim$futilityPerStage[, 1])),
    sprintf("\"overall_reject\": %.17g", sim$overallReject[1]),
    sprintf("\"analytic_reject_per_stage\": %s", num(pow$rejectPerStage[, 1])),
    sprintf("\"analytic_futility_per_stage\": %s", num(pow$futilityPerStage[, 1])),
    sprintf("\"analytic_overall_reject\": %.17g", pow$overallReject[1])
  )
  paste0("    {", paste(fields, collapse = ", "), "}")
}

json <- paste0(
  "{\n",
  "  \"generator\": \"Rscript tests/reference/make_gs_simulation.R\",\n",
  sprintf("  \"r_version\": \"%s\",\n", R.version.string),
  sprintf("  \"rpact_version\": \"%s\",\n", as.character(packageVersion("rpact"))),
  sprintf("  \"critical_values\": %s,\n", num(design$criticalValues)),
  sprintf("  \"futility_bounds\": %s,\n", num(design$futilityBounds)),
  "  \"cases\": [\n", paste(c(one(0.7), one(1)), collapse = ",\n"), "\n  ]\n}\n"
)
writeLines(json, "tests/fixtures/gs_simulation.json", sep = "")
cat("wrote tests/fixtures/gs_simulation.json\n")
