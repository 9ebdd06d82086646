CREATE TABLE "profiles" (
  "id" BIGINT,
  "email" VARCHAR,
  "state" VARCHAR,
  "zip" VARCHAR,
  "precinct" VARCHAR,
  "polling_place" VARCHAR,
  "age" BIGINT,
  "party" VARCHAR,
  "registered" BOOLEAN,
  "engagement" BIGINT,
  "volunteer" BOOLEAN,
  "scores" STRUCT("support" DOUBLE, "turnout" DOUBLE, "persuasion" DOUBLE),
  "donations" STRUCT("amount" BIGINT, "context" VARCHAR, "date" DATE)[],
  "issues" VARCHAR[],
  "consent" STRUCT("email" BOOLEAN, "sms" BOOLEAN, "phone" BOOLEAN),
  "last_contact" DATE
);
