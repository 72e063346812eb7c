// Passwords on one machine (`npm start`): one AES-256-GCM encrypted JSON file and its 0600 key
// file in the data folder. Nothing is created until the first password is stored.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretStore } from '../../../domain/common/ports.js';

const KEY_FILE = 'secrets.key';
const DATA_FILE = 'secrets.json.enc';
const AAD = Buffer.from('sluice-secrets-v1');

interface Envelope {
  version: 1;
  iv: string;
  tag: string;
  ciphertext: string;
}

const missing = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ENOENT';

export class LocalFileSecretStore implements SecretStore {
  /** Operations run one at a time: each is a read-modify-write of the one file. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async key(create: boolean): Promise<Buffer | undefined> {
    const path = join(this.dir, KEY_FILE);
    try {
      const key = await readFile(path);
      if (key.length !== 32) throw new Error(`${path} is not a 32-byte key; restore it from a backup (without it the stored passwords are lost)`);
      return key;
    } catch (e) {
      if (!missing(e)) throw e;
    }
    if (!create) return undefined;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32);
    try {
      await writeFile(path, key, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      // Another process made it first: use that one.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return this.key(false);
      throw e;
    }
    await chmod(path, 0o600);
    return key;
  }

  private async load(key: Buffer): Promise<Record<string, string>> {
    let raw: string;
    try {
      raw = await readFile(join(this.dir, DATA_FILE), 'utf8');
    } catch (e) {
      if (missing(e)) return {};
      throw e;
    }
    const env = JSON.parse(raw) as Envelope;
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(env.ciphertext, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Record<string, string>;
  }

  private async save(key: Buffer, secrets: Record<string, string>): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(AAD);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    const env: Envelope = { version: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
    const path = join(this.dir, DATA_FILE);
    const tmp = `${path}.${process.pid}.tmp`;
    // Whole file or nothing: a crash mid-write leaves the previous version.
    await writeFile(tmp, JSON.stringify(env), { mode: 0o600 });
    await rename(tmp, path);
  }

  put(name: string, value: string): Promise<void> {
    return this.serial(async () => {
      const key = (await this.key(true))!;
      const secrets = await this.load(key);
      secrets[name] = value;
      await this.save(key, secrets);
    });
  }

  get(name: string): Promise<string | undefined> {
    return this.serial(async () => {
      const key = await this.key(false);
      return key ? (await this.load(key))[name] : undefined;
    });
  }

  delete(name: string): Promise<void> {
    return this.serial(async () => {
      const key = await this.key(false);
      if (!key) return;
      const secrets = await this.load(key);
      if (!(name in secrets)) return;
      delete secrets[name];
      await this.save(key, secrets);
    });
  }
}
