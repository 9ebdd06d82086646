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
  "scores" OBJECT,
  "donations" ARRAY,
  "issues" ARRAY,
  "consent" OBJECT,
  "last_contact" DATE
);
