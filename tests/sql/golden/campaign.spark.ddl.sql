CREATE TABLE `profiles` (
  `id` BIGINT,
  `email` STRING,
  `state` STRING,
  `zip` STRING,
  `precinct` STRING,
  `polling_place` STRING,
  `age` BIGINT,
  `party` STRING,
  `registered` BOOLEAN,
  `engagement` BIGINT,
  `volunteer` BOOLEAN,
  `scores` STRUCT<`support`: DOUBLE, `turnout`: DOUBLE, `persuasion`: DOUBLE>,
  `donations` ARRAY<STRUCT<`amount`: BIGINT, `context`: STRING, `date`: DATE>>,
  `issues` ARRAY<STRING>,
  `consent` STRUCT<`email`: BOOLEAN, `sms`: BOOLEAN, `phone`: BOOLEAN>,
  `last_contact` DATE
);
