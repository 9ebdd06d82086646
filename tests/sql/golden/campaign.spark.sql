error[E0501]: aggregates are not written for spark yet
  --> examples/campaign-2012/campaign.narval:33:22
   |
33 |   engagement >= 1 or count(donations) > 0 -> fundraising_email
   |                      ^^^^^^^^^^^^^^^^ not written for spark
   |
   = help: narval assign evaluates it; the SQL back end refuses rather than answer otherwise
