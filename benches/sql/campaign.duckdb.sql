-- The campaign-2012 rules (examples/campaign-2012/campaign.narval) as an
-- analyst would write them by hand for DuckDB, over the table narval's
-- `--ddl` describes (money in whole cents), for `today` = 2012-10-01.
-- It assumes clean data, as hand-written SQL does: no NULL checks beyond
-- `last_contact`, no rejected rows. benches/sql_bench.py checks that it
-- gives the shared workload's digest before timing it against the query
-- `narval sql` writes.
SELECT id,
  list_filter([
    CASE WHEN fundraising THEN 'fundraising_email' END,
    CASE WHEN mobilise THEN 'mobilisation_email' END,
    CASE WHEN invite THEN 'event_invite' END,
    CASE WHEN debate THEN 'debate_rapid_response' END,
    CASE WHEN knock THEN 'door_knock' END,
    CASE WHEN flyer THEN 'flyer' END,
    CASE WHEN phone THEN 'phone_bank' END,
    CASE WHEN sms THEN 'sms' END,
    CASE WHEN recruit THEN 'volunteer_recruitment' END,
    CASE WHEN register THEN 'voter_registration' END
  ], lambda x: x IS NOT NULL) AS solicitations,
  list_filter([
    CASE WHEN reachable AND list_contains(issues, 'contraception') THEN 'contraception' END,
    CASE WHEN reachable AND list_contains(issues, 'healthcare') AND age < 65 THEN 'healthcare' END,
    CASE WHEN reachable AND list_contains(issues, 'healthcare') AND age >= 65 THEN 'medicare' END,
    CASE WHEN reachable AND (list_contains(issues, 'jobs') OR (state IN ('OH', 'MI', 'PA', 'WI') AND scores.support >= 40)) THEN 'jobs' END,
    CASE WHEN reachable AND list_contains(issues, 'education') THEN 'education' END,
    CASE WHEN reachable AND list_contains(issues, 'environment') AND party <> 'rep' THEN 'environment' END,
    CASE WHEN reachable AND list_contains(issues, 'veterans') THEN 'veterans' END,
    CASE WHEN reachable AND list_contains(issues, 'immigration') AND state IN ('NV', 'CO', 'FL', 'AZ') THEN 'immigration' END
  ], lambda x: x IS NOT NULL) AS issues
FROM (
  SELECT id, issues, age, state, scores, party,
    consent.email AND total < 250000 AND (engagement >= 1 OR len(donations) > 0) AND NOT hostile AND age >= 18 AS fundraising,
    consent.email AND (total >= 250000 OR (volunteer AND engagement >= 2)) AND NOT hostile AS mobilise,
    (list_bool_or(list_transform(donations, lambda d: d.context = 'rally'))
      OR len(list_filter(donations, lambda d: d.amount >= 25000)) >= 2) AND NOT hostile AS invite,
    consent.email AND list_bool_or(list_transform(donations, lambda d: d.context = 'debate' AND d.date >= DATE '2012-06-01'))
      AND NOT hostile AS debate,
    (persuadable OR (scores.support >= 70 AND scores.turnout < 40)) AND NOT volunteer AND NOT hostile AND NOT recent AS knock,
    persuadable AND NOT volunteer AND NOT hostile AS flyer,
    consent.phone AND ((scores.support >= 70 AND scores.turnout < 40) OR (scores.persuasion >= 80 AND party = 'ind'))
      AND NOT hostile AND NOT recent AS phone,
    consent.sms AND age < 35 AND scores.support >= 50 AND NOT hostile AS sms,
    engagement >= 3 AND NOT volunteer AND NOT hostile AS recruit,
    NOT registered AND age >= 18 AND NOT hostile AS register,
    consent.email OR consent.sms AS reachable
  FROM (
    SELECT *,
      COALESCE(list_sum(list_transform(donations, lambda d: d.amount)), 0) AS total,
      party = 'rep' AND scores.support < 20 AS hostile,
      last_contact IS NOT NULL AND last_contact >= DATE '2012-10-01' - INTERVAL 7 DAY AS recent,
      scores.support BETWEEN 40 AND 60 AND scores.turnout >= 50 AS persuadable
    FROM profiles
  )
)
