// Creates an S3 bucket if missing (idempotent); used by `pnpm infra up` against the local MinIO and
// by CI against its MinIO service container. Usage: tsx scripts/infra/ensure-bucket.ts [bucket]
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  HeadBucketCommand,
  NotFound,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { defaultInfra } from "@maas/config";
import { z } from "zod";

const { minio } = defaultInfra;
const env = z
  .object({
    S3_ENDPOINT: z.string().url().default(`http://${minio.host}:${minio.port}`),
    S3_REGION: z.string().min(1).default("us-east-1"),
    S3_ACCESS_KEY_ID: z.string().min(1).default(minio.accessKey),
    S3_SECRET_ACCESS_KEY: z.string().min(1).default(minio.secretKey),
    S3_BUCKET: z.string().min(3).default("maas-models"),
  })
  .parse(process.env);
const bucket = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "not a valid S3 bucket name")
  .parse(process.argv[2] ?? env.S3_BUCKET);

const s3 = new S3Client({
  endpoint: env.S3_ENDPOINT,
  region: env.S3_REGION,
  // MinIO serves buckets by path; virtual-host style would need wildcard DNS for 127.0.0.1.
  forcePathStyle: true,
  credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
  maxAttempts: 6,
});

async function exists(): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    if (err instanceof NotFound) return false;
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return false;
    throw err;
  }
}

try {
  if (!(await exists())) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      process.stderr.write(`s3: created bucket ${bucket}\n`);
    } catch (err) {
      // Two `infra up` runs racing each other is fine: the bucket exists either way.
      if (!(err instanceof BucketAlreadyOwnedByYou)) throw err;
    }
  }
} finally {
  s3.destroy();
}
