CREATE TYPE "profiles_record_1" AS ("support" DOUBLE PRECISION, "turnout" DOUBLE PRECISION, "persuasion" DOUBLE PRECISION);
CREATE TYPE "profiles_record_2" AS ("amount" BIGINT, "context" TEXT, "date" DATE);
CREATE TYPE "profiles_record_3" AS ("email" BOOLEAN, "sms" BOOLEAN, "phone" BOOLEAN);
CREATE TABLE "profiles" (
  "id" BIGINT,
  "email" TEXT,
  "state" TEXT,
  "zip" TEXT,
  "precinct" TEXT,
  "polling_place" TEXT,
  "age" BIGINT,
  "party" TEXT,
  "registered" BOOLEAN,
  "engagement" BIGINT,
  "volunteer" BOOLEAN,
  "scores" "profiles_record_1",
  "donations" "profiles_record_2"[],
  "issues" TEXT[],
  "consent" "profiles_record_3",
  "last_contact" DATE
);
