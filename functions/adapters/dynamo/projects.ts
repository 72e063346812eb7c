import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyExistsError } from '../../../domain/errors.js';
import { projectName } from '../../../domain/names.js';
import type { Project, ProjectRepo } from '../../../domain/projects.js';
import { keys } from './keys.js';
import { fromItem, toItem, type DynamoStore } from './store.js';

export class DynamoProjectRepo implements ProjectRepo {
  constructor(private readonly store: DynamoStore) {}

  get = (id: string): Promise<Project | undefined> => this.store.get<Project>(keys.project(id));

  async listAll(): Promise<Project[]> {
    const items = await this.store.queryAll(keys.projectsPartition, keys.projectPrefix);
    return items.map((i) => fromItem<Project>(i)!);
  }

  async create(project: Omit<Project, 'version'>): Promise<Project> {
    const created: Project = { ...project, version: 1 };
    try {
      await this.store.doc.send(
        new PutCommand({ TableName: this.store.tableName, Item: toItem('Project', keys.project(project.id), created), ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new AlreadyExistsError(projectName(project.id));
      throw e;
    }
    return created;
  }

  update = (next: Project, expectedVersion: number): Promise<Project> =>
    this.store.putVersioned('Project', keys.project(next.id), next, expectedVersion, projectName(next.id));
}
