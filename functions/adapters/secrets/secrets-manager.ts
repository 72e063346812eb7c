// Passwords in AWS Secrets Manager: one secret per data source, `${prefix}/instances/<id>/<type>`,
// encrypted with the account's AWS managed key. The function's role may touch `${prefix}/*` only.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStore } from '../../../domain/common/ports.js';

export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  /** The secret's name in Secrets Manager. */
  secretId = (name: string): string => `${this.prefix}/${name}`;

  async put(name: string, value: string): Promise<void> {
    const id = this.secretId(name);
    try {
      await this.client.send(new CreateSecretCommand({ Name: id, SecretString: value, Description: 'Sluice: password of a data source' }));
    } catch (e) {
      if (!(e instanceof ResourceExistsException)) throw e;
      await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
    }
  }

  async get(name: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId(name) }));
      return out.SecretString;
    } catch (e) {
      if (e instanceof ResourceNotFoundException) return undefined;
      throw e;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      // At once: a removed password must not linger for a recovery window under the same name.
      await this.client.send(new DeleteSecretCommand({ SecretId: this.secretId(name), ForceDeleteWithoutRecovery: true }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
  }
}
