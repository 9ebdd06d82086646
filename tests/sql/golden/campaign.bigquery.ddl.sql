CREATE TABLE `profiles` (
  `id` INT64,
  `email` STRING,
  `state` STRING,
  `zip` STRING,
  `precinct` STRING,
  `polling_place` STRING,
  `age` INT64,
  `party` STRING,
  `registered` BOOLEAN,
  `engagement` INT64,
  `volunteer` BOOLEAN,
  `scores` STRUCT<`support` FLOAT64, `turnout` FLOAT64, `persuasion` FLOAT64>,
  `donations` ARRAY<STRUCT<`amount` INT64, `context` STRING, `date` DATE>>,
  `issues` ARRAY<STRING>,
  `consent` STRUCT<`email` BOOLEAN, `sms` BOOLEAN, `phone` BOOLEAN>,
  `last_contact` DATE
);
