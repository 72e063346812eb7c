// The single table. Key names mirror functions/adapters/dynamo/table.ts (infra/lib may not import
// functions/); test/infra asserts the two stay identical.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export const GSI1 = 'gsi1';

/**
 * What the store issues: single-item reads and writes, queries, and TransactWriteItems (which
 * IAM authorizes as its Put/Update/Delete/ConditionCheck parts). No Scan, no DescribeTable; batch
 * reads and writes only where granted on their own (grantBatchGet, grantBatchWrite).
 */
export const DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** What a function that only reads the table may do. */
export const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'] as const;

export class SluiceTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The change history is the product: never lose it to a stack deletion.
      removalPolicy: RemovalPolicy.RETAIN,
      // AWS managed key: encrypted at rest with key use visible in CloudTrail, and no key policy
      // or kms:Decrypt grants to maintain. A customer managed key adds cost and a way to lock
      // ourselves out without a requirement (e.g. crypto-shredding) that needs it.
      encryption: TableEncryption.AWS_MANAGED,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: GSI1,
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }

  /** BatchWriteItem on the table, for the functions that write many items at once (sync's tables). */
  grantBatchWrite(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:BatchWriteItem'], resources: [this.table.tableArn] }));
  }

  /**
   * BatchGetItem (consistent) on the table: the task runner reads its task and issue in one
   * request, and the states of the lower versions it may wait for, 100 keys a request.
   */
  grantBatchGet(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:BatchGetItem'], resources: [this.table.tableArn] }));
  }

  /** Reads only: the audit log's reader (its one route is a GET, which is not itself audited). */
  grantRead(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...READ_ACTIONS], resources: [this.table.tableArn, `${this.table.tableArn}/index/${GSI1}`] }),
    );
  }

  /** Reads and whole-item puts only: webhook delivery (reads webhooks, users and issues; writes its delivery records). */
  grantReadPut(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...READ_ACTIONS, 'dynamodb:PutItem'], resources: [this.table.tableArn, `${this.table.tableArn}/index/${GSI1}`] }),
    );
  }

  /** Item reads and writes on the table and its one index: named ARNs, no `index/*`. */
  grantData(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...DATA_ACTIONS],
        resources: [this.table.tableArn, `${this.table.tableArn}/index/${GSI1}`],
      }),
    );
  }
}
