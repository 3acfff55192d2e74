"""Messages for experiment validation; tests import these constants.

Each says what is wrong and what to do next; ``{placeholders}`` are filled in by
the service that raises them.
"""

NOT_LAUNCHABLE = "Only a draft or paused experiment can be launched; this one is {status}."
NOT_PAUSABLE = "Only a running experiment can be paused; this one is {status}."
NOT_STOPPABLE = "Only a running or paused experiment can be stopped; this one is {status}."
NOT_LIVE = (
    "Weights of a draft experiment are edited directly; this one is {status}, so it has no phase."
)
TOO_FEW_ARMS = "An experiment needs at least two arms: add a control and at least one other design."
ONE_CONTROL = "Mark exactly one arm as the control (the design the others are compared with)."
CONTROL_WEIGHT = "The control arm needs a weight above zero, or nothing can be compared with it."
NO_TREATMENT_WEIGHT = "At least one arm besides the control needs a weight above zero."
NEGATIVE_WEIGHT = "Arm weights cannot be negative."
UNKNOWN_ARM = "Weights were given for an arm that is not part of this experiment: {arm}."
VARIANT_NOT_OFFERED = (
    "The design “{variant}” is inactive or not offered on the {surface} surface: "
    "activate it or add the surface to its list before launching."
)
BAD_COUNTRY = (
    "Country codes must be two capital letters (ISO 3166-1 alpha-2), such as US or DE: {code}."
)
OVERLAPPING_EXPERIMENT = (
    "“{other}” is already running on the {surface} surface for an overlapping audience. "
    "Pause or stop it, or give this experiment a different audience or countries."
)
NONCOMPLIANT_DESIGN = (
    "The design “{variant}” fails “{rule}” ({citation}), and this experiment's audience "
    "includes the EU/EEA/UK. Fix the design or restrict the countries to places outside them."
)
LIVE_DESIGN_FAILS_LINT = (
    "“{variant}” is shown by the live experiment “{experiment}”, whose audience includes the "
    "EU/EEA/UK, and this copy would fail “{rule}” ({citation}). Change the copy so it passes, "
    "or stop the experiment first."
)
NOT_SHIPPABLE = "Only a running or paused experiment can ship a design; this one is {status}."
ARM_NOT_IN_EXPERIMENT = "That arm is not part of this experiment."
SHIP_REASON_REQUIRED = "Say why this design ships: the reason is kept with the decision."
NOT_A_WINNER = "“{variant}” cannot be shipped: its verdict is “{verdict}”."
DEFAULT_FAILS_LINT = (
    "“{variant}” fails “{rule}” ({citation}). A default design is shown in every country, "
    "including the EU/EEA/UK, so it cannot become the default."
)
