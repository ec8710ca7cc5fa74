// The handoff bot on Azure (docs/deploy-azure.md): two or more replicas of the container
// image on Azure Container Apps, one PostgreSQL flexible server they share, their secrets in
// Key Vault read through a user-assigned managed identity, logs in Log Analytics, and the
// Azure Bot that connects them to Microsoft Teams.
//
//   az deployment group create -g <resource group> -f infra/main.bicep \
//     -p infra/main.parameters.json -p botClientSecret=<secret> postgresAdminPassword=<password>
//
// Kept simple on purpose: PostgreSQL is reached over its public endpoint (TLS, password),
// with the firewall open to Azure services only; put it in a VNet for a stricter set-up.
// tests/ship/test_infra.py checks this file against the app (settings, routes, port).

targetScope = 'resourceGroup'

@description('Azure region of everything but the Azure Bot, which is global.')
param location string = resourceGroup().location

@description('Prefix of the resource names: lower-case letters and digits, 2 to 10 of them.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'handoff'

@description('Application (client) ID of the bot\'s single-tenant app registration.')
param botAppId string

@description('Client secret of that app registration. Stored in Key Vault only.')
@secure()
@minLength(1)
param botClientSecret string

@description('The Microsoft Entra tenant of the app registration: the one tenant the bot serves.')
param tenantId string = tenant().tenantId

@description('Azure Bot pricing tier: F0 (free) or S1 (with an SLA). Teams is a standard channel, free on both.')
@allowed([
  'F0'
  'S1'
])
param botSku string = 'F0'

@description('Name the bot shows in Teams.')
param botDisplayName string = 'Handoff Bot'

@description('The bot\'s container image, e.g. myregistry.azurecr.io/handoff-bot:1.0.0.')
param containerImage string

@description('An Azure Container Registry in this resource group holding the image (the identity gets AcrPull on it); empty for a public image.')
param registryName string = ''

@description('Administrator login of the PostgreSQL server; the bot connects as it.')
param postgresAdminLogin string = 'handoffadmin'

@description('Password of that login (12 to 128 characters of three kinds). Stored in Key Vault only.')
@secure()
@minLength(12)
param postgresAdminPassword string

@description('Replicas that always run: two, so that a restart or a crash of one is not an outage.')
@minValue(2)
param minReplicas int = 2

@description('Most replicas the HTTP load may scale out to.')
@minValue(2)
param maxReplicas int = 4

@description('The Teams app\'s id in your org\'s app catalog (group chats for long-running cases); empty until the app is uploaded.')
param teamsAppId string = ''

@description('Besides the leads, who may run `outbox` and `audit`: Entra object ids, comma-separated.')
param botAdmins string = ''

var suffix = uniqueString(resourceGroup().id)
var botPort = 3978
// The Prometheus /metrics port: internal to the replica, not published by the ingress.
var metricsPort = 9464
var databaseName = 'handoff'
// Built-in roles: Key Vault Secrets User (read secret values) and AcrPull (pull images).
var keyVaultSecretsUser = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
var acrPull = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '7f951dda-4ed3-4680-a7ca-43fe172d538f')

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: '${namePrefix}-identity'
  location: location
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

// RBAC mode: the identity reads secrets through a role assignment, not an access policy.
resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: 'kv-${take(namePrefix, 6)}-${suffix}'
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }
}

resource botSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'bot-client-secret'
  properties: {
    value: botClientSecret
  }
}

resource postgresPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'postgres-admin-password'
  properties: {
    value: postgresAdminPassword
  }
}

// The whole URL is the secret: it holds the password. sslmode=require: the server refuses
// unencrypted connections anyway; this makes the client refuse them too.
resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgresql://${uriComponent(postgresAdminLogin)}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${databaseName}?sslmode=require'
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: keyVaultSecretsUser
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(registryName)) {
  name: registryName
}

resource imagePull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(registryName)) {
  name: guid(resourceGroup().id, registryName, identity.id, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: acrPull
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Burstable B1ms: 1 vCore, 2 GiB, enough for one team's handoffs; no high availability.
resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: '${namePrefix}-pg-${suffix}'
  location: location
  sku: {
    name: 'Standard_B1ms'
    tier: 'Burstable'
  }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    authConfig: {
      activeDirectoryAuth: 'Disabled'
      passwordAuth: 'Enabled'
    }
    storage: {
      storageSizeGB: 32
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: postgres
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
}

// 0.0.0.0 to 0.0.0.0 is Azure's "allow Azure services": any Azure address, not only this
// subscription's. Simple, not tight: the password and TLS guard the rest.
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = {
  parent: postgres
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

// Container Apps fetches these from Key Vault with the identity; they reach the container
// as environment variables through secretRef, never as plain values in this template.
var appSecrets = [
  {
    name: 'bot-client-secret'
    keyVaultUrl: botSecret.properties.secretUri
    identity: identity.id
  }
  {
    name: 'database-url'
    keyVaultUrl: databaseUrlSecret.properties.secretUri
    identity: identity.id
  }
]

var registries = empty(registryName) ? [] : [
  {
    server: '${registryName}.azurecr.io'
    identity: identity.id
  }
]

resource app 'Microsoft.App/containerApps@2025-07-01' = {
  name: '${namePrefix}-bot'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: botPort
        transport: 'auto'
        allowInsecure: false
        // /metrics: reachable by a scraper inside the environment, never from the internet.
        additionalPortMappings: [
          {
            external: false
            targetPort: metricsPort
          }
        ]
      }
      secrets: appSecrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'bot'
          image: containerImage
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            {
              name: 'MicrosoftAppId'
              value: botAppId
            }
            {
              name: 'MicrosoftAppPassword'
              secretRef: 'bot-client-secret'
            }
            {
              name: 'MicrosoftAppType'
              value: 'SingleTenant'
            }
            {
              name: 'MicrosoftAppTenantId'
              value: tenantId
            }
            {
              name: 'TENANT_ID'
              value: tenantId
            }
            {
              name: 'DATABASE_URL'
              secretRef: 'database-url'
            }
            {
              name: 'PORT'
              value: string(botPort)
            }
            {
              name: 'METRICS_PORT'
              value: string(metricsPort)
            }
            {
              name: 'LOG_LEVEL'
              value: 'INFO'
            }
            {
              name: 'TEAMS_APP_ID'
              value: teamsAppId
            }
            {
              name: 'BOT_ADMINS'
              value: botAdmins
            }
          ]
          probes: [
            {
              // Up to 30 s to open the database before liveness counts.
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: botPort
              }
              periodSeconds: 3
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: botPort
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              // 503 while the database does not answer: traffic goes to the other replicas.
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: botPort
              }
              periodSeconds: 5
              failureThreshold: 3
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
  dependsOn: [
    secretsUser
    imagePull
    database
    allowAzureServices
  ]
}

// `az containerapp job start -g <rg> -n <this job>`: `python app.py migrate` before a new
// image is rolled out (exit 0 once the schema is up to date).
resource migrateJob 'Microsoft.App/jobs@2025-07-01' = {
  name: '${namePrefix}-migrate'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Manual'
      replicaTimeout: 600
      replicaRetryLimit: 1
      manualTriggerConfig: {
        parallelism: 1
        replicaCompletionCount: 1
      }
      secrets: [
        {
          name: 'database-url'
          keyVaultUrl: databaseUrlSecret.properties.secretUri
          identity: identity.id
        }
      ]
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'migrate'
          image: containerImage
          command: [
            'python'
            'app.py'
            'migrate'
          ]
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            {
              name: 'DATABASE_URL'
              secretRef: 'database-url'
            }
            {
              name: 'LOG_LEVEL'
              value: 'INFO'
            }
          ]
        }
      ]
    }
  }
  dependsOn: [
    secretsUser
    imagePull
    database
    allowAzureServices
  ]
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: '${namePrefix}-bot-${suffix}'
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: botSku
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${app.properties.configuration.ingress.fqdn}/api/messages'
    msaAppId: botAppId
    msaAppType: 'SingleTenant'
    msaAppTenantId: tenantId
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: {
      isEnabled: true
    }
  }
}

output messagingEndpoint string = bot.properties.endpoint
@description('BOT_DOMAIN for `make package`.')
output botDomain string = app.properties.configuration.ingress.fqdn
output containerAppName string = app.name
output migrateJobName string = migrateJob.name
output keyVaultName string = vault.name
output postgresHost string = postgres.properties.fullyQualifiedDomainName
